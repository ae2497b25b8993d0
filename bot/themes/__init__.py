"""What a comment is about: a taxonomy of themes, matched on lemmas in Russian and English."""
