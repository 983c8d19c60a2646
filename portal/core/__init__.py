"""The application shell every area builds on: the app factory, settings, extensions, clock,
transactions, work queues, encryption and the CLI root.
"""
