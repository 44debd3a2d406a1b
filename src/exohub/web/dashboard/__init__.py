"""The signed-in home page: what each role needs first, and the alliance's goals for everyone."""
