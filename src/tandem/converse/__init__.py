"""Conversations: follow-up turns made standalone from the turns before them."""
