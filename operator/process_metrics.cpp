// Reads /proc/self/stat, statm and fd on every scrape; a missing /proc yields no samples, not an error.
#include "operator/process_metrics.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace kubert {
namespace {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type, double value) {
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return prometheus::MetricFamily{std::move(name), std::move(help), type, {m}};
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

class ProcessCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    std::ifstream stat("/proc/self/stat");
    std::string line;
    if (std::getline(stat, line)) {
      // Fields after the command name (which may hold spaces) start at field 3, the state.
      const auto close = line.rfind(')');
      std::istringstream rest(line.substr(close + 2));
      std::vector<std::string> f{"", "", ""};  // so that f[n] is field n of proc(5), 1-based
      std::string tok;
      while (rest >> tok) f.push_back(tok);
      // utime 14, stime 15 and starttime 22 in clock ticks; vsize 23 in bytes.
      if (f.size() > 24) {
        const double utime = std::stod(f[14]), stime = std::stod(f[15]), start = std::stod(f[22]);
        out.push_back(family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                             prometheus::MetricType::Counter, (utime + stime) / ticks));
        out.push_back(family("process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.",
                             prometheus::MetricType::Gauge, boot_time_seconds() + start / ticks));
        out.push_back(family("process_virtual_memory_bytes", "Virtual memory size in bytes.",
                             prometheus::MetricType::Gauge, std::stod(f[23])));
      }
    }
    std::ifstream statm("/proc/self/statm");
    double size = 0, resident = 0;
    if (statm >> size >> resident) {
      out.push_back(family("process_resident_memory_bytes", "Resident memory size in bytes.",
                           prometheus::MetricType::Gauge, resident * page));
    }
    std::error_code ec;
    double fds = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      ++fds;
    }
    if (!ec) {
      out.push_back(family("process_open_fds", "Number of open file descriptors.", prometheus::MetricType::Gauge, fds));
    }
    return out;
  }
};

}  // namespace

std::shared_ptr<prometheus::Collectable> make_process_collector() { return std::make_shared<ProcessCollector>(); }

}  // namespace kubert
