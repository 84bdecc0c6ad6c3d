"""Services: SMS queue and worker, call registry; they sit between the API and the drivers."""
