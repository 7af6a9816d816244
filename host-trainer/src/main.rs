//! `certnn`: train certifiably robust networks, export them as int8 model
//! files, and certify inputs with the exact arithmetic of the device.

mod cli;

fn main() -> std::process::ExitCode {
    match cli::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
