//! Usage statistics of nodes and resources.
//!
//! Byte and core counts are integers in meaning but kept as `f64`, as
//! JavaScript numbers are: integer arithmetic on them is exact up to 2^53
//! (8 PiB), which covers every real cluster, and beyond that both kernels
//! round identically instead of one wrapping or saturating differently.

/// Usage statistics of a node.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct NodeStats {
    /// CPU utilisation in cores.
    pub cpu: f64,
    /// Number of CPU cores (integral).
    pub maxcpu: f64,
    /// Used memory in bytes (integral).
    pub mem: f64,
    /// Total memory in bytes (integral).
    pub maxmem: f64,
}

/// Usage statistics of a resource.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct ResourceStats {
    /// CPU utilisation in cores.
    pub cpu: f64,
    /// Assigned cores or CPU limit; 0 means unlimited.
    pub maxcpu: f64,
    /// Used memory in bytes (integral).
    pub mem: f64,
    /// Assigned memory in bytes (integral).
    pub maxmem: f64,
}

/// max(0, x) with NaN giving 0, as `f64::max(0.0, x)` does; a comparison, so
/// that the sign of a zero result is fixed (+0) in both kernels.
#[inline]
pub fn clamp_at_zero(x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

impl NodeStats {
    /// The stats as if the resource had started here, using its limits.
    #[inline]
    pub fn with_started_resource(&self, resource: &ResourceStats) -> NodeStats {
        // A resource without a CPU limit may take every core of the node.
        let cpu = if resource.maxcpu == 0.0 {
            self.maxcpu
        } else {
            resource.maxcpu
        };
        NodeStats {
            cpu: self.cpu + cpu,
            maxcpu: self.maxcpu,
            mem: self.mem + resource.maxmem,
            maxmem: self.maxmem,
        }
    }

    /// The stats as if the resource were running here, using its current usage.
    #[inline]
    pub fn with_running_resource(&self, resource: &ResourceStats) -> NodeStats {
        NodeStats {
            cpu: self.cpu + resource.cpu,
            maxcpu: self.maxcpu,
            mem: self.mem + resource.mem,
            maxmem: self.maxmem,
        }
    }

    /// The stats without a running resource; usage never drops below zero.
    #[inline]
    pub fn without_running_resource(&self, resource: &ResourceStats) -> NodeStats {
        NodeStats {
            cpu: clamp_at_zero(self.cpu - resource.cpu),
            maxcpu: self.maxcpu,
            mem: clamp_at_zero(self.mem - resource.mem),
            maxmem: self.maxmem,
        }
    }

    #[inline]
    pub fn cpu_load(&self) -> f64 {
        self.cpu / self.maxcpu
    }

    #[inline]
    pub fn mem_load(&self) -> f64 {
        self.mem / self.maxmem
    }

    /// CPU and memory load averaged, as a fraction of the node's capacity.
    #[inline]
    pub fn load(&self) -> f64 {
        (self.cpu_load() + self.mem_load()) / 2.0
    }
}
