//! The Linux ABI values that differ between architectures, for the system
//! calls in `sys.rs`. An architecture that is not listed here is a compile
//! error: a guessed value would compile and then pass a wrong request to
//! the watchdog driver or read the wrong socket option.
//!
//! Sources: `<asm-generic/ioctl.h>` and the `uapi/asm/ioctl.h` of powerpc,
//! mips and sparc (which widen the direction field to 3 bits, narrow the
//! size field to 13, and number the directions 1/2/4); `<asm-generic/socket.h>`
//! and the `uapi/asm/socket.h` of the same three.

use crate::ioctl::IocLayout;
use std::os::raw::c_int;

#[cfg(any(
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "arm",
    target_arch = "aarch64",
    target_arch = "riscv32",
    target_arch = "riscv64",
    target_arch = "s390x",
    target_arch = "loongarch64",
))]
mod family {
    use super::*;
    pub const IOC: IocLayout = crate::ioctl::ASM_GENERIC;
    pub const SOL_SOCKET: c_int = 1;
    pub const SO_PEERCRED: c_int = 17;
}

#[cfg(any(target_arch = "powerpc", target_arch = "powerpc64"))]
mod family {
    use super::*;
    pub const IOC: IocLayout = crate::ioctl::THREE_DIRECTION_BITS;
    pub const SOL_SOCKET: c_int = 1;
    pub const SO_PEERCRED: c_int = 21;
}

#[cfg(any(
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "mips32r6",
    target_arch = "mips64r6",
))]
mod family {
    use super::*;
    pub const IOC: IocLayout = crate::ioctl::THREE_DIRECTION_BITS;
    pub const SOL_SOCKET: c_int = 0xffff;
    pub const SO_PEERCRED: c_int = 18;
}

#[cfg(any(target_arch = "sparc", target_arch = "sparc64"))]
mod family {
    use super::*;
    pub const IOC: IocLayout = crate::ioctl::THREE_DIRECTION_BITS;
    pub const SOL_SOCKET: c_int = 0xffff;
    pub const SO_PEERCRED: c_int = 0x0040;
}

#[cfg(not(any(
    target_arch = "x86",
    target_arch = "x86_64",
    target_arch = "arm",
    target_arch = "aarch64",
    target_arch = "riscv32",
    target_arch = "riscv64",
    target_arch = "s390x",
    target_arch = "loongarch64",
    target_arch = "powerpc",
    target_arch = "powerpc64",
    target_arch = "mips",
    target_arch = "mips64",
    target_arch = "mips32r6",
    target_arch = "mips64r6",
    target_arch = "sparc",
    target_arch = "sparc64",
)))]
compile_error!(
    "ha-native-core does not know this architecture's ioctl encoding and socket \
     option numbers: add them to crates/ha-native-core/src/arch.rs from the \
     kernel's arch/<arch>/include/uapi/asm/{ioctl,socket}.h"
);

pub use family::{IOC, SOL_SOCKET, SO_PEERCRED};
