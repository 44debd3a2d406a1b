"""Accounts: organisations, users, their roles per organisation, and sign-in."""
