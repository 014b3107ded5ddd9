-- Run once by the postgres image on an empty volume: a database for MLflow next to the API's.
CREATE DATABASE mlflow;
