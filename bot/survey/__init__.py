"""The client's side: the question, the score buttons, the comment, linking a chat."""
