"""The main window and the widgets it is made of."""
