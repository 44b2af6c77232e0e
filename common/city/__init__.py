"""The city as data: firmware-config (sites, devices, profiles, services) and the
residents file, as every role reads them. No hardware library is imported here: the
collectors a profile lists are checked by whoever loads with a ``check_collector``."""
