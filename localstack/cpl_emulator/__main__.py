"""`python -m cpl_emulator [moto_server args]`: moto's server with our extensions installed first."""
import sys

from . import target_health

target_health.install()

from moto.server import main  # noqa: E402  (moto's models must be patched before its server imports them)

main(sys.argv[1:])
