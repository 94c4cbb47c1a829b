"""The editor's widgets: header, scene list, scene form, problems, image preview."""
