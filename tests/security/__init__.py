"""Probes an attacker or a clumsy installer would try, as tests with real clients.

Here: the broker's accounts, ACLs and certificates (test_broker_access), what a device
can make a terminal do (test_terminal), the acknowledgement page's links
(test_ackserver), the broker's packet limit and our publishers' (test_packet_limit),
property tests of every parser that takes outside data (test_property). Beside the code they guard: a huge payload, an impossible value, a
clock ahead and a key given twice (tests/wire, tests/gateway/test_ingest.py); forged
service events, ten thousand sensor names and inputs that once crashed the alerts
service (tests/alerts/test_replay.py, test_service.py); BLE replays
(tests/edge/test_ble.py); YAML bombs (tests/test_yamlconf.py); systemd sandboxing
(tests/test_systemd_units.py); what a crashed broker lost, asked for again
(tests/e2e/test_gaps.py). And two minutes of chaos (test_chaos).
"""
