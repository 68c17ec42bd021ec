"""What every adapter needs and no platform library provides."""
