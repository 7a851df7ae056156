// Stub: registers nothing yet (the lead replaces this with the MeshUpgrade controller's wiring).
#include "controllers/setup.h"

namespace meshupgrade {

void setup(kubert::Manager&, kubert::KubeApi&, const kubert::ManagerOptions&) {}

}  // namespace meshupgrade
