"""Verifiers: response + Problem -> Verdict. Pure functions, no side effects, never raise on any
response string."""
