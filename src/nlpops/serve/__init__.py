"""The serving stack: FastAPI app, feedback store, alerts, metrics and hot model reload."""
