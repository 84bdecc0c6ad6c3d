"""The modem simulator: AT dialects on a pty, a network of virtual handsets, faults, control."""
