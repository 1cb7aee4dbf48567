"""Team mode on the page: the egress policy, the sign-in gate and the signed-in account.

Local mode draws nothing here and lets everything through. In team mode a visitor who is not
signed in gets only the sign-in page (no sidebar, no pages, no hint of configured keys); a
signed-in account outside allowed_domains/allowed_emails gets a refusal and Sign out.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import streamlit as st

from components import sign_in_return, state
from components.state import secrets as read_secrets
from components.untrusted import code, text
from core import egress
from core.team import TeamSettings, team_settings

log = logging.getLogger("toolsmith")


@dataclass(frozen=True)
class Viewer:
    """Who is looking: `user` is the signed-in email in team mode, "" in local mode."""

    team: bool
    user: str = ""
    name: str = ""
    admin: bool = True


def settings() -> TeamSettings:
    """The team settings; an unreadable allowed_servers refuses every request until fixed."""
    try:
        found = team_settings(os.environ, read_secrets())
    except ValueError as exc:
        log.error("Team configuration: %s", exc)
        found = TeamSettings(enabled=True, egress=egress.EgressPolicy(True, (), True))
        st.error(f"The server's configuration cannot be read: {text(exc)}. No request leaves this "
                 "server until an admin fixes it.", icon=":material/block:")
    return found


def apply() -> TeamSettings:
    """Set the process's egress policy (every run: the secrets file may have changed)."""
    found = settings()
    if found.egress != egress.current():
        egress.set_policy(found.egress)
    return found


def viewer(found: TeamSettings) -> Viewer | None:
    """The viewer, or None when the visitor may not see the app (not signed in, not allowed)."""
    if not found.enabled:
        return Viewer(team=False)
    if not st.user.is_logged_in:
        return None
    email = str(st.user.get("email") or "").strip().lower()
    if not found.may_enter(email):
        return None
    return Viewer(True, email, str(st.user.get("name") or email), found.is_admin(email))


def current() -> Viewer | None:
    """The viewer of this run (pages only run for a viewer who may see the app); None where
    no viewer can be known (code run outside a page's run in team mode): nothing is theirs."""
    try:
        return viewer(settings())
    except AttributeError:  # st.user outside a script run
        return None


def is_admin() -> bool:
    """True in local mode, and for the admins of a team server."""
    who = current()
    return who is not None and who.admin


ADMIN_ONLY = ("On this team server only admins change the shared {what}; you can use "
              "it as it is.")


def admin_only(what: str) -> str:
    """The refusal a non-admin reads when trying to change what admins keep."""
    return ADMIN_ONLY.format(what=what)


def sign_in_page() -> None:
    """The only page a visitor who is not signed in (or not allowed) sees."""
    st.title(":material/build: Toolsmith")
    if st.user.is_logged_in:
        email = str(st.user.get("email") or "") or "without an email address"
        st.error(f"The account {code(email)} may not use this Toolsmith server. Sign out and sign "
                 "in with your team account, or ask an admin to allow it.", icon=":material/block:")
        st.button("Sign out", key="team.sign_out_refused", on_click=st.logout)
        return
    st.markdown("This Toolsmith server is shared by a team. Sign in with your organisation's "
                "account to see your own chats, tools and eval runs.")
    sign_in_return.remember()  # a share link opened signed out is where sign-in ends
    flash = state.take_flash()
    if flash:
        st.error(flash[1], icon=":material/block:")
    st.button("Sign in", key="team.sign_in", type="primary", icon=":material/key:",
              on_click=_sign_in)


def _sign_in() -> None:
    """Callback: start Streamlit's OpenID Connect sign-in; a broken [auth] section is a
    message for the admin, not a traceback."""
    try:
        st.login()
    except Exception as exc:  # StreamlitAuthError and friends: the configuration is wrong
        log.error("Sign-in could not start: %s", exc)
        state.flash("error", "Sign-in could not start: the server's [auth] settings are "
                             "incomplete or wrong (the server log says which). Ask an admin.")


def account(who: Viewer) -> None:
    """Who is signed in, and Sign out, at the top of the sidebar (team mode only)."""
    if not who.team:
        return
    box = st.sidebar.container(border=True)
    role = " · admin" if who.admin else ""
    box.markdown(f"Signed in as **{who.name}**  \n`{who.user}`{role}")
    box.button("Sign out", key="team.sign_out", icon=":material/logout:", on_click=st.logout)
    with box:
        sign_in_return.restore()
