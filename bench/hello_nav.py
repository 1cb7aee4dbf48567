"""The peer for the page benchmarks: the smallest two-page Streamlit app (st.navigation)."""

import streamlit as st


def one() -> None:
    st.title("One")
    st.write("Hello")


def two() -> None:
    st.title("Two")
    st.write("Hello")


st.navigation([st.Page(one, title="One", default=True),
               st.Page(two, title="Two", url_path="two")]).run()
