"""The peer for the Chat-page benchmark: a naive chat page that renders every message in full
with st.chat_message + st.json, as most Streamlit chat demos do."""

import json
import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from bench/
from core.store import Store

if "naive.messages" not in st.session_state and os.environ.get("NAIVE_SESSION"):
    store = Store.open(os.environ["NAIVE_DB_URL"])
    conversation = store.load(os.environ["NAIVE_SESSION"])
    st.session_state["naive.messages"] = [
        {"role": m.role, "content": m.content,
         "tool_calls": [{"id": c.id, "name": c.name, "arguments": json.loads(c.arguments)}
                        for c in m.tool_calls]}
        for m in (conversation.messages if conversation else [])]

for message in st.session_state.get("naive.messages", []):
    with st.chat_message("assistant" if message["role"] == "tool" else message["role"]):
        if message["content"]:
            st.markdown(message["content"])
        for call in message["tool_calls"]:
            st.json(call)
st.chat_input("Say something")
