"""Lesson material that is not part of the core: helpers one notebook needs and nothing else imports.

- calendar.py  the agent lessons' SQLite calendar and its tools (notebooks 06, 07)
- quantize.py  loading the local model at other precisions, perplexity, speed (notebook 08)
"""
