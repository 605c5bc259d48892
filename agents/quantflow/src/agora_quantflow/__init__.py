"""QuantFlow: quantitative finance tools served as an Agora agent."""
