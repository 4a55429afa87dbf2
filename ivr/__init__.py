"""hotline: an open IVR for public-service hotlines on Asterisk."""
