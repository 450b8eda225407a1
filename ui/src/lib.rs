//! Pages and components of the dashboard.
