"""One contract for every adapter: the same scenarios, each platform reached only through a
small driver that starts the bot on its fake, speaks as a person and reads what people saw.

A new adapter passes the suite by adding its driver (see `base.Driver`) to `DRIVERS` in
`conftest.py`; nothing else changes. The contract runs on SQLite only: the storage paths it
crosses are exercised on both databases by the service and store tests."""
