"""Running the flows in a terminal, without Asterisk."""
