#include "controller/cmd/flags.h"

#include <gtest/gtest.h>

namespace gatehouse::cmd {
namespace {

TEST(FlagsTest, ParsesTheContract) {
  auto f = ParseFlags({"--source=dir:/etc/gw", "--controller-name=example.com/ctl",
                       "--stream-listen=127.0.0.1:0", "--admin-listen=127.0.0.1:9000",
                       "--provisioner=host", "--proxy-binary=/bin/proxy", "--proxy-workers=2",
                       "--address-pool=10.0.0.1-10.0.0.9", "--status-file=/tmp/s.yaml",
                       "--leader-elect"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->source, Flags::Source::kDir);
  EXPECT_EQ(f->source_dir, "/etc/gw");
  EXPECT_EQ(f->controller_name, "example.com/ctl");
  EXPECT_EQ(f->stream_listen, "127.0.0.1:0");
  EXPECT_EQ(f->admin_listen, "127.0.0.1:9000");
  EXPECT_EQ(f->provisioner, Flags::Provisioner::kHost);
  EXPECT_EQ(f->proxy_binary, "/bin/proxy");
  EXPECT_EQ(f->proxy_workers, 2);
  EXPECT_EQ(f->address_pool, "10.0.0.1-10.0.0.9");
  EXPECT_EQ(f->status_file, "/tmp/s.yaml");
  EXPECT_TRUE(f->leader_elect);
}

TEST(FlagsTest, DefaultsDependOnTheSource) {
  auto dir = ParseFlags({"--source=dir:x"});
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->provisioner, Flags::Provisioner::kNone);
  EXPECT_EQ(dir->stream_listen, "127.0.0.1:18000");
  EXPECT_EQ(dir->controller_name, "gatehouse.dev/gateway-controller");
  auto kube = ParseFlags({"--source=kube", "--kubeconfig=/k"});
  ASSERT_TRUE(kube.ok());
  EXPECT_EQ(kube->source, Flags::Source::kKube);
  EXPECT_EQ(kube->kubeconfig, "/k");
  EXPECT_EQ(kube->provisioner, Flags::Provisioner::kHost);
}

TEST(FlagsTest, KubernetesProvisioner) {
  auto f = ParseFlags({"--source=kube", "--provisioner=kubernetes", "--proxy-image=reg/proxy:1",
                       "--controller-service-address=ctl.ns.svc:18000", "--controller-namespace=ns",
                       "--proxy-replicas=3", "--proxy-service-type=NodePort"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->provisioner, Flags::Provisioner::kKubernetes);
  EXPECT_EQ(f->proxy_image, "reg/proxy:1");
  EXPECT_EQ(f->controller_service_address, "ctl.ns.svc:18000");
  EXPECT_EQ(f->controller_namespace, "ns");
  EXPECT_EQ(f->proxy_replicas, 3);
  EXPECT_EQ(f->proxy_service_type, "NodePort");
  auto defaults = ParseFlags({"--source=kube", "--provisioner=kubernetes"});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->proxy_replicas, 1);
  EXPECT_EQ(defaults->proxy_service_type, "LoadBalancer");
  EXPECT_FALSE(ParseFlags({"--source=dir:x", "--provisioner=kubernetes"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=kube", "--proxy-replicas=0"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=kube", "--proxy-service-type=External"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=kube", "--proxy-image="}).ok());
}

TEST(FlagsTest, RejectsWhatItDoesNotKnow) {
  EXPECT_FALSE(ParseFlags({}).ok());
  EXPECT_FALSE(ParseFlags({"--source=dir:"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=git:x"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=kube", "--bogus=1"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=kube", "positional"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=kube", "--provisioner=k8s"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=kube", "--proxy-workers=-1"}).ok());
  EXPECT_FALSE(ParseFlags({"--source=kube", "--status-file=/x"}).ok());
  EXPECT_TRUE(ParseFlags({"--help"})->help);
}

}  // namespace
}  // namespace gatehouse::cmd
