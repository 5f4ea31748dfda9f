#include "proxy/admin/metrics.h"

#include <gtest/gtest.h>

namespace gatehouse::proxy::metrics {
namespace {

TEST(MetricsTest, SumsWorkersAndRendersPrometheusText) {
  Registry r(2);
  r.worker(0).CountResponse(200);
  r.worker(1).CountResponse(204);
  r.worker(1).CountResponse(503);
  r.worker(0).CountResponse(0);
  r.worker(0).downstream_connections_active.Add(3);
  r.worker(1).downstream_connections_active.Add(-1);
  r.SnapshotApplied("v\"1");
  r.SnapshotRejected();
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("gatehouse_proxy_http_responses_total{code=\"2xx\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("gatehouse_proxy_http_responses_total{code=\"5xx\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("gatehouse_proxy_http_responses_total{code=\"none\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("gatehouse_proxy_downstream_connections_active 2\n"), std::string::npos);
  EXPECT_NE(text.find("gatehouse_proxy_snapshot_info{version=\"v\\\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("gatehouse_proxy_snapshots_rejected_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE gatehouse_proxy_snapshots_applied_total counter\n"),
            std::string::npos);
}

}  // namespace
}  // namespace gatehouse::proxy::metrics
