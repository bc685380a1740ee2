"""The full-screen kiosk: free spots at a glance, attendant check-in/out, driver self-service."""
