// meshupgrade-operator: wires the runtime (operator/) to the MeshUpgrade reconciler (controllers/).
#include <cstdio>
int main() { std::puts("meshupgrade-operator " MESHUPGRADE_VERSION); return 0; }
