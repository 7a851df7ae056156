// process_* metrics read from /proc/self, as the Prometheus client libraries' process collectors report.
#pragma once

#include <memory>

namespace prometheus {
class Collectable;
}

namespace kubert {

// process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
// process_start_time_seconds, process_open_fds.
std::shared_ptr<prometheus::Collectable> make_process_collector();

}  // namespace kubert
