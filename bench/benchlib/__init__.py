"""bench/run's parts: the simulator, the two procedures (operator, kubectl), memory rows, reports."""
