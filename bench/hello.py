"""The peer for the app-start benchmark: the smallest Streamlit app."""

import streamlit as st

st.title("Hello")
st.chat_input("Say something")
