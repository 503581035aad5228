"""Data: synthetic images (and, later, SR degradations shared by training and evaluation)."""
