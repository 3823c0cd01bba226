"""The ``wangge`` command line; each module here with a ``register(app)`` adds commands."""
