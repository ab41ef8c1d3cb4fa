use clap::Parser;

fn main() -> std::process::ExitCode {
    anct_formations::logging::init();
    let cli = anct_formations::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("anct-formations: cannot start the runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(anct_formations::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            log::error!("{error}");
            eprintln!("anct-formations: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}
