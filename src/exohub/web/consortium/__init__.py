"""The consortium: alliances of organisations and the goals they set themselves."""
