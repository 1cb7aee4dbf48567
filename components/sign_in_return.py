"""Bring a visitor back to the address they opened once they have signed in (team mode).

Streamlit's sign-in ends at the app's root: a share link (`/?session=…`) opened before
signing in was lost. The address lives only in the browser, so this components-v2 piece (in
the page, no iframe, a few lines of JavaScript) keeps it in the tab's sessionStorage, which
survives the round trip through the identity provider: the sign-in page remembers the
address the tab was opened at, and the first signed-in page goes there once, then forgets it
(not when the person has already moved on from where signing in left them). Only a path on
this server is ever followed.
"""

from __future__ import annotations

import streamlit as st

STORAGE_KEY = "toolsmith.after-sign-in"

_JS = f"""
export default function (component) {{
  const {{ data }} = component;
  const here = (url) => url.pathname + url.search + url.hash;
  if (data.mode === "remember") {{
    // The address the tab was opened at, before Streamlit settled on its sign-in page.
    const nav = performance.getEntriesByType("navigation")[0];
    const opened = new URL(nav ? nav.name : window.location.href);
    const auth = /\\/(oauth2callback|auth\\/)/.test(opened.pathname);
    if (opened.origin === window.location.origin && !auth) {{
      window.sessionStorage.setItem("{STORAGE_KEY}", here(opened));
    }}
    return;
  }}
  const wanted = window.sessionStorage.getItem("{STORAGE_KEY}");
  if (wanted === null) return;
  window.sessionStorage.removeItem("{STORAGE_KEY}");
  // Only while the tab is still where signing in left it: drawn late (a busy server), this
  // used to take a person who had already moved to another page back to the kept address.
  const nav = performance.getEntriesByType("navigation")[0];
  if (nav && here(new URL(nav.name)) !== here(window.location)) return;
  const target = new URL(wanted, window.location.origin);
  if (target.origin === window.location.origin && here(target) !== here(window.location)) {{
    window.location.replace(target.href);
  }}
}}
"""

_mount = st.components.v2.component("toolsmith.sign_in_return", js=_JS)


def remember() -> None:
    """On the sign-in page: keep the address this tab was opened at."""
    _mount(key="team.return.remember", data={"mode": "remember"})


def restore() -> None:
    """On every signed-in run: go to the kept address once, if there is one."""
    _mount(key="team.return.restore", data={"mode": "restore"})
