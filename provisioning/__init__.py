"""Sites, devices and profiles as data (firmware-config/), and what is rendered from them."""
