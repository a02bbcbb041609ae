"""Entities publish and maintain data: uploads, jobs, editing, versions."""
