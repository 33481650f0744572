pub mod bed;
pub mod dns_server;
