"""Genesis: general text tools served as an Agora agent."""
