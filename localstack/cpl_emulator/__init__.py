"""cloud-provider-localstack's extensions of moto's server: AWS's truth where moto's differs (docs/emulator.md)."""
