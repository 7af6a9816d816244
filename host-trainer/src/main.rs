//! `certnn`: train certifiably robust networks, export them as int8 model
//! files, and certify inputs with the exact arithmetic of the device.

mod cli;

// Training allocates and frees large tensors every step; glibc's allocator
// hands those back to the kernel and page-faults them in again (13% of an
// IBP step in a profile). mimalloc keeps them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    match cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
