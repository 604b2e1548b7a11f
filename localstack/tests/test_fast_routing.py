"""moto's module list read once (cpl_emulator/fast_routing.py): the same names, no directory listing per request."""
from __future__ import annotations

import os
import unittest
from unittest import mock

from moto import backends

from cpl_emulator import fast_routing


class FastRoutingTest(unittest.TestCase):
    def test_same_modules_and_listed_once(self) -> None:
        listed = list(backends.list_of_moto_modules())
        fast_routing.install()
        self.assertEqual(list(backends.list_of_moto_modules()), listed)
        self.assertIn("elbv2", backends.list_of_moto_modules())
        with mock.patch.object(os, "listdir", side_effect=AssertionError("listed again")):
            self.assertIn("ec2", backends.list_of_moto_modules())


if __name__ == "__main__":
    unittest.main()
