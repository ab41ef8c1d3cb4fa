//! A PostgreSQL cluster of the test's own, in a temporary directory on a free port, that the
//! test may stop and start again — a real restart, which the shared server cannot undergo.

use std::{
    net::TcpListener,
    path::PathBuf,
    process::{Command, Stdio},
};

pub struct PrivatePostgres {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl PrivatePostgres {
    /// The server tools of the newest PostgreSQL installed (`scripts/test` installs one when
    /// none is).
    fn bin() -> PathBuf {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|dirs| {
                dirs.filter_map(|d| d.ok())
                    .map(|d| d.path().join("bin"))
                    .filter(|bin| bin.join("initdb").exists())
                    .collect()
            })
            .unwrap_or_default();
        found.sort();
        found
            .pop()
            .expect("PostgreSQL server tools (initdb, pg_ctl) under /usr/lib/postgresql")
    }

    /// Runs a server tool as a user it accepts (initdb and pg_ctl refuse root).
    fn tool(&self, name: &str, args: &[&str]) -> bool {
        let program = self.bin.join(name);
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    pub fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("anct-pg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
        }
        let cluster = Self {
            port,
            dir,
            bin: Self::bin(),
        };
        let data = cluster.data();
        assert!(
            cluster.tool(
                "initdb",
                &[
                    "-D",
                    &data,
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync"
                ]
            ),
            "initdb"
        );
        cluster.start_again();
        cluster
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// Starts the (stopped) server and waits until it accepts connections.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("server.log").display().to_string();
        assert!(
            self.tool(
                "pg_ctl",
                &[
                    "-D",
                    &self.data(),
                    "-l",
                    &log,
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "60",
                    "start"
                ]
            ),
            "pg_ctl start"
        );
    }

    /// Stops the server at once, as an operator's fast shutdown does.
    pub fn stop(&self) {
        assert!(
            self.tool("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]),
            "pg_ctl stop"
        );
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.tool("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
