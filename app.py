"""Toolsmith entry point: page config, the shared sidebar, and navigation.

The page files live in app_pages/, not pages/: with a pages/ folder, Streamlit runs a deep-linked
page alone (legacy multipage mode) on a fresh server, without this file
(docs/architecture.md, "Streamlit traps").
"""

import logging

import streamlit as st

from components import history_sync, sidebar, state, storage, team
from components.shell import guarded
from toolsmith import warmup

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
logging.getLogger("httpx").setLevel(logging.WARNING)

st.set_page_config(page_title="Toolsmith", page_icon=":material/build:", layout="wide")
team_config = team.apply()  # where requests may go: nothing restricted in local mode
viewer = team.viewer(team_config)
if viewer is None:  # team mode, not signed in (or not allowed): the sign-in page only
    # at every page's address (not "page not found"), so the address opened is kept for after
    # signing in (components/sign_in_return.py).
    st.navigation([st.Page(team.sign_in_page, title="Sign in", icon=":material/key:",
                           default=True)]
                  + [st.Page(team.sign_in_page, title="Sign in", url_path=path)
                     for path in ("tools", "evals", "history", "usage")],
                  position="hidden").run()
    warmup.page_drawn()
    st.stop()
assert viewer is not None
navigation = st.navigation([
    st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("app_pages/tools.py", title="Tools", icon=":material/handyman:"),
    st.Page("app_pages/evals.py", title="Evals", icon=":material/science:"),
    st.Page("app_pages/history.py", title="History", icon=":material/history:"),
    st.Page("app_pages/usage.py", title="Usage", icon=":material/bar_chart:"),
])


def _sidebar() -> None:
    # A session named in the URL is opened first, so its settings reach the sidebar's widgets.
    history_sync.restore_from_url()
    # On every page, not only Chat: a reload on Tools reopens the conversation too (the
    # navigation drops the query, so each run puts it back).
    state.mark_session_in_url()
    _, settings = sidebar.render()
    state.set_settings(settings)


team.account(viewer)
guarded(state.keep_all)  # first: a choice made just before a page switch is kept
guarded(lambda: state.note_page(navigation.title))  # widgets met afresh get their values
guarded(_sidebar)
guarded(storage.banner)  # a database that cannot be used says so on every page, every run
navigation.run()
warmup.page_drawn()  # the server's warm-up may go on (toolsmith/warmup.py)
