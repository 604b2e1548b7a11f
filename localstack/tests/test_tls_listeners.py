"""TLS listeners in the emulator (tls_listeners.py) against moto in-process: `python -m unittest discover -s localstack/tests -t localstack`."""
from __future__ import annotations

import datetime
import unittest
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from moto import mock_aws

from cpl_emulator import control, tls_listeners
from tests.test_cpl_emulator import wsgi

control.install()
tls_listeners.install()


def self_signed(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False).sign(key, hashes.SHA256())
    )
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), pem_key


@mock_aws
class TlsListenerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.ec2 = boto3.client("ec2", region_name="us-east-1")
        self.elbv2 = boto3.client("elbv2", region_name="us-east-1")
        self.acm = boto3.client("acm", region_name="us-east-1")
        vpc = self.ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in self.ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc][:2]
        self.lb = self.elbv2.create_load_balancer(Name="lb", Type="network", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        self.tg = self.elbv2.create_target_group(Name="tg", Protocol="TCP", Port=80, VpcId=vpc, TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        self.certs = []
        for name in ("a.example", "b.example"):
            cert, key = self_signed(name)
            self.certs.append(self.acm.import_certificate(Certificate=cert, PrivateKey=key)["CertificateArn"])
        self.pem = cert

    def tcp_listener(self) -> str:
        return self.elbv2.create_listener(LoadBalancerArn=self.lb, Protocol="TCP", Port=443, DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg}])["Listeners"][0]["ListenerArn"]

    def listener(self, arn: str) -> dict[str, Any]:
        return self.elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]

    def certificates(self, arn: str) -> list[tuple[str, bool]]:
        return [(c["CertificateArn"], c["IsDefault"]) for c in self.elbv2.describe_listener_certificates(ListenerArn=arn)["Certificates"]]

    def test_tcp_listener_becomes_tls_in_place_and_back(self) -> None:
        arn = self.tcp_listener()
        self.elbv2.modify_listener(ListenerArn=arn, Protocol="TLS", Certificates=[{"CertificateArn": self.certs[0]}], SslPolicy="ELBSecurityPolicy-2016-08", AlpnPolicy=["HTTP2Preferred"])
        got = self.listener(arn)
        self.assertEqual((got["Protocol"], got["Certificates"], got["SslPolicy"], got["AlpnPolicy"]), ("TLS", [{"CertificateArn": self.certs[0]}], "ELBSecurityPolicy-2016-08", ["HTTP2Preferred"]))
        self.elbv2.modify_listener(ListenerArn=arn, AlpnPolicy=["None"])
        self.assertEqual(self.listener(arn).get("AlpnPolicy", []), [])
        self.elbv2.modify_listener(ListenerArn=arn, Protocol="TCP")
        got = self.listener(arn)
        self.assertEqual((got["Protocol"], got.get("Certificates", []), got.get("SslPolicy")), ("TCP", [], None))

    def test_becoming_tls_needs_a_known_certificate(self) -> None:
        arn = self.tcp_listener()
        with self.assertRaises(Exception):
            self.elbv2.modify_listener(ListenerArn=arn, Protocol="TLS")
        with self.assertRaises(Exception):
            self.elbv2.modify_listener(ListenerArn=arn, Protocol="TLS", Certificates=[{"CertificateArn": self.certs[0] + "x"}])
        self.assertEqual(self.listener(arn)["Protocol"], "TCP")

    def test_new_default_keeps_additional_certificates_and_remove_keeps_default(self) -> None:
        arn = self.elbv2.create_listener(LoadBalancerArn=self.lb, Protocol="TLS", Port=443, Certificates=[{"CertificateArn": self.certs[0]}],
                                         DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg}])["Listeners"][0]["ListenerArn"]
        self.elbv2.add_listener_certificates(ListenerArn=arn, Certificates=[{"CertificateArn": self.certs[0]}, {"CertificateArn": self.certs[1]}])
        self.elbv2.modify_listener(ListenerArn=arn, Certificates=[{"CertificateArn": self.certs[1]}])
        self.assertEqual(self.certificates(arn), [(self.certs[1], True), (self.certs[0], False), (self.certs[1], False)])
        self.elbv2.remove_listener_certificates(ListenerArn=arn, Certificates=[{"CertificateArn": self.certs[1]}])
        self.assertEqual(self.certificates(arn), [(self.certs[1], True), (self.certs[0], False)])

    def test_unknown_certificates_are_refused(self) -> None:
        unknown = self.certs[0][:-4] + "0000"
        with self.assertRaisesRegex(Exception, "CertificateNotFound"):
            self.elbv2.create_listener(LoadBalancerArn=self.lb, Protocol="TLS", Port=443, Certificates=[{"CertificateArn": unknown}],
                                       DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg}])
        arn = self.elbv2.create_listener(LoadBalancerArn=self.lb, Protocol="TLS", Port=443, Certificates=[{"CertificateArn": self.certs[0]}],
                                         DefaultActions=[{"Type": "forward", "TargetGroupArn": self.tg}])["Listeners"][0]["ListenerArn"]
        with self.assertRaisesRegex(Exception, "CertificateNotFound"):
            self.elbv2.add_listener_certificates(ListenerArn=arn, Certificates=[{"CertificateArn": unknown}])
        self.assertEqual(self.certificates(arn), [(self.certs[0], True)])

    def test_certificate_material_for_the_data_plane(self) -> None:
        status, answer = wsgi("GET", f"/_cpl/certificate?arn={self.certs[1]}")
        self.assertEqual(status, "200 OK")
        self.assertEqual(answer["certificate"].strip(), self.pem.decode().strip())
        self.assertIn("PRIVATE KEY", answer["privateKey"])
        status, _ = wsgi("GET", f"/_cpl/certificate?arn={self.certs[1]}0")
        self.assertEqual(status, "404 Not Found")


if __name__ == "__main__":
    unittest.main()
