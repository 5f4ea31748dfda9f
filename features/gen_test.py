"""Tests for gen.py: the real registry validates, and each kind of mistake is caught."""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class RegistryTest(unittest.TestCase):
    def setUp(self):
        self.registry, self.upstream = gen.load(os.path.join(HERE, "features.yaml"),
                                                os.path.join(HERE, "upstream.json"))

    def problems_after(self, mutate):
        reg = copy.deepcopy(self.registry)
        mutate(reg)
        return gen.validate(reg, self.upstream)

    def test_real_registry_is_valid(self):
        self.assertEqual(gen.validate(self.registry, self.upstream), [])

    def test_every_upstream_feature_listed_once(self):
        names = [e["name"] for e in self.registry]
        self.assertEqual(sorted(names), sorted(f["name"] for f in self.upstream["features"]))

    def test_missing_feature(self):
        p = self.problems_after(lambda r: r.pop(0))
        self.assertTrue(any("missing from features.yaml" in x for x in p), p)

    def test_unknown_feature(self):
        p = self.problems_after(lambda r: r.append(dict(r[0], name="NoSuchFeature")))
        self.assertTrue(any("not a feature" in x for x in p), p)

    def test_wrong_channel(self):
        def m(r):
            r[0]["channel"] = "experimental" if r[0]["channel"] == "standard" else "standard"
        self.assertTrue(any("channel" in x for x in self.problems_after(m)))

    def test_test_that_does_not_exercise_feature(self):
        def m(r):
            e = next(e for e in r if e["name"] == "HTTPRouteQueryParamMatching")
            e["tests"] = ["HTTPRouteSimpleSameNamespace"]
        self.assertTrue(any("does not exercise" in x for x in self.problems_after(m)))

    def test_unsupported_needs_reason(self):
        def m(r):
            r[0]["status"] = "unsupported"
            r[0].pop("reason", None)
        self.assertTrue(any("needs a reason" in x for x in self.problems_after(m)))

    def test_supported_needs_modules(self):
        def m(r):
            r[0]["status"] = "supported"
            r[0]["modules"] = []
        self.assertTrue(any("names the targets" in x for x in self.problems_after(m)))

    def test_supported_feature_needs_its_tests_features(self):
        def m(r):
            for e in r:
                if e["name"] == "BackendTLSPolicySANValidation":
                    e["status"] = "supported"
                if e["name"] == "BackendTLSPolicy":
                    e["status"] = "planned"
        self.assertTrue(any("also needs BackendTLSPolicy" in x for x in self.problems_after(m)))

    def nothing_claimed(self):
        reg = copy.deepcopy(self.registry)
        for e in reg:
            if e["status"] == "supported":
                e["status"] = "planned"
        return reg

    def test_cc_source_lists_supported_sorted(self):
        reg = self.nothing_claimed()
        for e in reg:
            if e["name"] in ("HTTPRouteMethodMatching", "Gateway"):
                e["status"] = "supported"
        src = gen.cc_source(reg, self.upstream)
        self.assertLess(src.index('"Gateway"'), src.index('"HTTPRouteMethodMatching"'))
        self.assertNotIn('"HTTPRouteQueryParamMatching"', src)

    def test_profiles_claimed_only_with_core_supported(self):
        reg = self.nothing_claimed()
        self.assertNotIn("GATEWAY-HTTP", gen.claimed_profiles(reg, self.upstream))
        for e in reg:
            if e["name"] in ("Gateway", "HTTPRoute", "ReferenceGrant"):
                e["status"] = "supported"
        self.assertEqual(gen.claimed_profiles(reg, self.upstream), ["GATEWAY-HTTP"])


if __name__ == "__main__":
    unittest.main()
