//! The kernel's answers (sysctl values, the process table) now come from the
//! host model every tool shares: [`mailhost_host::kernel`].  Re-exported
//! here so `envinfo::kernel::...` keeps naming them.

pub use mailhost_host::kernel::*;

#[cfg(test)]
pub(crate) mod tests {
    use super::Kernel;
    use std::collections::BTreeMap;

    /// The test double: a kernel that answers from a table.
    #[derive(Default)]
    pub struct FakeKernel {
        pub values: BTreeMap<String, String>,
        pub processes: Option<Vec<String>>,
    }

    impl Kernel for FakeKernel {
        fn sysctl(&self, name: &str) -> Option<String> {
            self.values.get(name).cloned()
        }
        fn processes(&self) -> Option<Vec<String>> {
            self.processes.clone()
        }
    }
}
