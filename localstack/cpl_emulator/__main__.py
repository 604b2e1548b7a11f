"""`python -m cpl_emulator [moto_server args]`: moto's server with our extensions installed first."""
import sys

from . import control, deletion_protection, fast_routing, fast_tags, lb_addresses, listener_attributes, private_link, quic, target_health, tls_listeners

target_health.install()  # reads CPL_EMULATOR_HEALTH (instant | data-plane, the default): docs/emulator.md
control.install()
fast_routing.install()  # moto's module list read once, not per request
fast_tags.install()  # EC2 tags of a resource read from its own entry (moto scans them all)
lb_addresses.install()  # SubnetMappings' addresses answered, capacity reservations kept
quic.install()  # QUIC and TCP_QUIC listeners and target groups taken
tls_listeners.install()  # TLS listeners modified in place, certificates kept as AWS does
private_link.install()  # SetSecurityGroups' EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic kept
listener_attributes.install()  # NLB listener attributes refused as ELBv2 refuses them
deletion_protection.install()  # DeleteLoadBalancer refused while deletion_protection.enabled is true

from moto.server import main  # noqa: E402  (moto's models must be patched before its server imports them)

main(sys.argv[1:])
